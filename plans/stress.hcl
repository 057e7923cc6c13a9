# stress.hcl — find the breaking point: ramp from 0 to 200 users over 8 minutes in steps of 50,
# hold 200 for a minute, then ramp down. Watch where latency bends and errors start; the
# abort_on_fail threshold stops the run early once the service is clearly overloaded.
#
#   loadplan plan plans/stress.hcl      # see the ramp first
#   loadplan apply --demo plans/stress.hcl

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
  think_time = "500ms..1500ms"

  http "quote" {
    path = "/api/stocks/${random_item(["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "NFLX"])}"
    name = "/api/stocks/{symbol}"
    check { status = 200 }
  }

  http "slow" {
    path  = "/api/slow"
    query = { min_ms = 20, max_ms = 300 }
    check { status = "2xx" }
  }
}

load {
  stage {
    duration = "2m"
    target   = 50
  }
  stage {
    duration = "2m"
    target   = 100
  }
  stage {
    duration = "2m"
    target   = 150
  }
  stage {
    duration = "2m"
    target   = 200
  }
  stage {
    duration = "1m"
    target   = 200
  }
  stage {
    duration = "1m"
    target   = 0
  }
  graceful_ramp_down = "10s"
}

threshold "http_req_duration" { condition = "p(95) < 1s" }
threshold "http_req_failed" {
  condition     = "rate < 0.05"
  abort_on_fail = true
  delay         = "1m"
  window        = "30s"
}
threshold "http_req_duration{step=quote}" {
  condition = "p(95) < 500ms"
  stage     = 5
}
