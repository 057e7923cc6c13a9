# arrival-rate.hcl — the open model: iterations start at a planned rate whatever the service's
# latency, like real independent users (no coordinated omission). 10 → 50 iterations/s over a
# minute, 2 minutes at 50/s, then down. A slow service makes VUs pile up to max_vus; beyond that
# iterations are dropped and counted (dropped_iterations).
#
#   loadplan plan plans/arrival-rate.hcl   # shows the expected number of iterations
#   loadplan apply --demo plans/arrival-rate.hcl

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

target "api" {
  base_url = var.host
  timeout  = "5s"
}

scenario "quotes" {
  target = target.api

  http "quote" {
    path = "/api/stocks/${random_item(["AAPL", "MSFT", "GOOG", "AMZN"])}"
    name = "/api/stocks/{symbol}"
    check { status = 200 }
  }

  http "slow" {
    path  = "/api/slow"
    query = { min_ms = 5, max_ms = 50 }
    check { max_duration = "500ms" }
  }
}

load {
  model             = "arrival_rate"
  start_rate        = 10
  time_unit         = "1s"
  pre_allocated_vus = 20
  max_vus           = 100

  stage {
    duration = "1m"
    target   = 50
  }
  stage {
    duration = "2m"
    target   = 50
  }
  stage {
    duration = "30s"
    target   = 0
  }
}

threshold "http_req_duration" { condition = "p(99) < 500ms" }
threshold "http_req_failed" { condition = "rate < 0.01" }
threshold "dropped_iterations" { condition = "count == 0" }
