# market.hcl — replaces the seed's Locust MarketStreamUser: each user opens the market WebSocket,
# subscribes to two symbols, waits for the acknowledgement, reads the price ticks for a while,
# unsubscribes and closes; then thinks 1–3 s (wait_time = between(1, 3)) and does it again.
#
#   loadplan apply --demo plans/market.hcl

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

target "api" {
  base_url = var.host
}

scenario "market" {
  target     = target.api
  think_time = "1s..3s"

  websocket "stream" {
    path    = "/api/market/ws"
    query   = { rate = 10 }
    timeout = "5s"

    send "subscribe" {
      json = { action = "subscribe", symbols = ["AAPL", "MSFT"] }
    }
    expect "subscribed" {
      json   = { type = "subscribed" }
      within = "2s"
    }
    expect "ticks" {
      json   = { type = "tick" }
      count  = 20
      within = "5s"
    }
    send "unsubscribe" {
      json = { action = "unsubscribe", symbols = ["AAPL", "MSFT"] }
    }
    close {}
  }

  load {
    vus      = 10
    duration = "1m"
  }
}

threshold "ws_expect_failed" { condition = "rate < 0.01" }
threshold "ws_connecting" { condition = "p(95) < 500ms" }
