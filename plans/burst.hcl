# burst.hcl — replaces the seed's Locust BurstUser (and its spawn-rate spikes): sudden spikes of
# REST and WebSocket users at the same time, as after a market
# open or a push notification: each scenario has its own load, and both run concurrently.
# REST users jump from 10 to 100 twice; WebSocket subscribers jump from 5 to 50.
#
#   loadplan apply --demo plans/burst.hcl
#   loadplan apply --demo --scenario rest plans/burst.hcl    # only the REST spikes

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

target "api" {
  base_url = var.host
  timeout  = "5s"
}

scenario "rest" {
  target     = target.api
  think_time = "200ms..800ms"

  http "quote" {
    path = "/api/stocks/${random_item(["AAPL", "MSFT", "TSLA", "NVDA"])}"
    name = "/api/stocks/{symbol}"
    check { status = 200 }
  }

  http "flaky" {
    path  = "/api/flaky"
    query = { fail = 0.02 }
    check { status = 200 }
    fail_on_check = true
  }

  load {
    stage {
      duration = "20s"
      target   = 10
    }
    stage {
      duration = "5s"
      target   = 100
    }
    stage {
      duration = "30s"
      target   = 100
    }
    stage {
      duration = "5s"
      target   = 10
    }
    stage {
      duration = "30s"
      target   = 10
    }
    stage {
      duration = "5s"
      target   = 100
    }
    stage {
      duration = "30s"
      target   = 100
    }
    stage {
      duration = "5s"
      target   = 0
    }
  }
}

scenario "ws" {
  target = target.api

  websocket "market" {
    path = "/api/market/ws"

    send "subscribe" {
      json = { action = "subscribe", symbols = ["AAPL", "TSLA"] }
    }
    expect "subscribed" {
      json   = { type = "subscribed" }
      within = "2s"
    }
    receive "ticks" {
      duration    = "10s"
      expect_rate = 5
    }
    close {}
  }

  load {
    stage {
      duration = "20s"
      target   = 5
    }
    stage {
      duration = "5s"
      target   = 50
    }
    stage {
      duration = "40s"
      target   = 50
    }
    stage {
      duration = "5s"
      target   = 5
    }
    stage {
      duration = "30s"
      target   = 5
    }
    stage {
      duration = "10s"
      target   = 0
    }
  }
}

threshold "http_req_failed{scenario=rest}" { condition = "rate < 0.05" }
threshold "http_req_duration{scenario=rest}" { condition = "p(95) < 500ms" }
threshold "ws_expect_failed{scenario=ws}" { condition = "rate < 0.01" }
threshold "ws_connecting" { condition = "p(95) < 1s" }
