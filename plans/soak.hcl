# soak.hcl — a long, moderate run that shows leaks and slow drifts: 30 users for 30 minutes.
# Thresholds use a sliding 5-minute window, so a degradation late in the run fails even when the
# whole-run average still looks fine.
#
#   loadplan apply --demo plans/soak.hcl --out prometheus

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

target "api" {
  base_url = var.host
  timeout  = "10s"
}

scenario "rest" {
  target     = target.api
  think_time = "2s..5s"

  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = "soak-${vu.id}", password = env("LOADPLAN_PASSWORD", "demo") }
    check { status = 200 }
    capture "token" { json = "token" }
  }

  http "portfolio" {
    path    = "/api/portfolio"
    headers = { Authorization = "Bearer ${capture.token}" }
    check { status = 200 }
  }

  http "stocks" {
    path = "/api/stocks"
    check { status = 200 }
  }
}

load {
  stage {
    duration = "1m"
    target   = 30
  }
  stage {
    duration = "28m"
    target   = 30
  }
  stage {
    duration = "1m"
    target   = 0
  }
}

threshold "http_req_duration" {
  condition = "p(95) < 300ms"
  window    = "5m"
}
threshold "http_req_failed" {
  condition = "rate < 0.01"
  window    = "5m"
}
threshold "iterations" { condition = "count > 1000" }
