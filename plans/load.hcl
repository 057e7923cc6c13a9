# load.hcl — the expected everyday load: 50 users for 5 minutes (30 s ramp up, 4 min steady,
# 30 s ramp down) browsing quotes and their portfolio. Its thresholds are the service's SLO.
#
#   loadplan apply --demo plans/load.hcl --out csv=results/

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

variable "users" {
  type        = number
  default     = 50
  description = "Steady number of virtual users."
}

target "api" {
  base_url = var.host
  timeout  = "10s"
}

# Trader accounts, one row per login, shared by all VUs in order.
data "users" {
  csv  = "data/users.csv"
  mode = "sequential"
}

scenario "browse" {
  target     = target.api
  weight     = 4
  think_time = "1s..3s"

  http "stocks" {
    path = "/api/stocks"
    check { status = 200 }
  }

  http "quote" {
    path = "/api/stocks/${random_item(["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "NFLX"])}"
    name = "/api/stocks/{symbol}"
    check {
      status        = 200
      body_contains = "price"
    }
  }

  http "slow" {
    path  = "/api/slow"
    query = { min_ms = 10, max_ms = 200 }
    check { status = 200 }
  }
}

scenario "trader" {
  target     = target.api
  weight     = 1
  think_time = "2s..4s"

  # Each trader logs in once, with the next account of data "users", and keeps the token.
  setup {
    http "login" {
      method = "POST"
      path   = "/api/login"
      json   = { user = data.users.user, password = data.users.password }
      check { status = 200 }
      capture "token" { json = "token" }
    }
  }

  http "portfolio" {
    path    = "/api/portfolio"
    headers = { Authorization = "Bearer ${vu.token}" }
    check { status = 200 }
  }
}

load {
  stage {
    duration = "30s"
    target   = var.users
  }
  stage {
    duration = "4m"
    target   = var.users
  }
  stage {
    duration = "30s"
    target   = 0
  }
}

threshold "http_req_failed" { condition = "rate < 0.01" }
threshold "http_req_duration" { conditions = ["p(95) < 300ms", "p(99) < 800ms"] }
threshold "http_req_duration{scenario=trader}" { condition = "p(95) < 200ms" }
threshold "checks" { condition = "rate > 0.99" }

output "csv" {
  path = "results/"
}
