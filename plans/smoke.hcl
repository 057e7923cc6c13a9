# smoke.hcl — a quick check that the service works at all: 5 users for 30 seconds walk the main
# REST flow (health, list, quote, login, portfolio). Run it on every deploy or in CI before the
# heavier profiles:
#
#   loadplan apply --demo plans/smoke.hcl
#   loadplan apply -var host=https://staging.example.com plans/smoke.hcl

variable "host" {
  type        = string
  default     = "http://127.0.0.1:8000"
  description = "Base URL of the service under test."
}

target "api" {
  base_url = var.host
  timeout  = "10s"
  headers  = { "User-Agent" = "loadplan-smoke" }
}

scenario "rest" {
  target     = target.api
  think_time = "500ms..1s"

  http "health" {
    path = "/api/health"
    check {
      status = 200
      json   = { status = "ok" }
    }
  }

  http "stocks" {
    path = "/api/stocks"
    check {
      status        = 200
      body_contains = "AAPL"
    }
  }

  http "quote" {
    path = "/api/stocks/${random_item(["AAPL", "MSFT", "GOOG", "NVDA"])}"
    name = "/api/stocks/{symbol}"
    check {
      status        = 200
      body_contains = "price"
    }
  }

  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = "smoke-${vu.id}", password = env("LOADPLAN_PASSWORD", "demo") }
    check { status = 200 }
    capture "token" { json = "token" }
  }

  http "portfolio" {
    path    = "/api/portfolio"
    headers = { Authorization = "Bearer ${capture.token}" }
    check { status = 200 }
  }
}

load {
  vus      = 5
  duration = "30s"
}

threshold "http_req_failed" { condition = "rate < 0.01" }
threshold "http_req_duration" { condition = "p(95) < 500ms" }
threshold "checks" { condition = "rate > 0.99" }
