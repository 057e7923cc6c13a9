# rest.hcl — replaces the seed's Locust RestUser. Each user logs in ONCE when it starts (Locust's
# on_start: the setup block) and keeps its token as vu.token; then every iteration runs one task
# drawn by weight (@task(3) quotes, @task(2) stocks, @task(1) portfolio), at most one iteration
# every 2 s per user (wait_time = constant_pacing(2)). 20 users log in 20 times, not once per
# iteration. `loadplan plan plans/rest.hcl` prints the expected mix; --seed N repeats the draws.
#
#   loadplan apply --demo plans/rest.hcl
#   loadplan apply --vus 20 --spawn-rate 5 --duration 2m --host http://127.0.0.1:8000 plans/rest.hcl

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

target "api" {
  base_url = var.host
  timeout  = "10s"
}

scenario "rest" {
  target = target.api
  pacing = "2s"

  setup {
    http "login" {
      method = "POST"
      path   = "/api/login"
      json   = { user = "trader${vu.id}", password = "secret" }
      check { status = 200 }
      capture "token" { json = "token" }
    }
  }

  task "quote" {
    weight = 3
    http "quote" {
      path = "/api/stocks/${random_item(["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA"])}"
      name = "/api/stocks/{symbol}"
      check { status = 200 }
    }
  }

  task "stocks" {
    weight = 2
    http "stocks" {
      path = "/api/stocks"
      check { status = 200 }
    }
  }

  task "portfolio" {
    weight = 1
    http "portfolio" {
      path    = "/api/portfolio"
      headers = { Authorization = "Bearer ${vu.token}" }
      check { status = 200 }
    }
  }

  load {
    vus      = 20
    duration = "1m"
  }
}

threshold "http_req_failed" { condition = "rate < 0.01" }
threshold "http_req_duration" { condition = "p(95) < 300ms" }
threshold "checks" { condition = "rate > 0.99" }
