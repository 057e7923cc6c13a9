# Every block of the language, used once, with values the test checks field by field.
variable "host" {
  type    = string
  default = "http://127.0.0.1:9"
}

variable "rps" {
  type    = number
  default = 5
}

variable "token" {
  type      = string
  default   = "t0p"
  sensitive = true
}

locals {
  api_path = "/api"
  ua       = "loadplan/${local.api_path}"
}

target "api" {
  base_url = var.host
  timeout  = "5s"
  headers  = { "User-Agent" = local.ua }
}

data "users" {
  csv  = "users.csv"
  mode = "unique"
}

scenario "rest" {
  target     = target.api
  weight     = 3
  think_time = "1s..3s"
  tags       = { team = "payments" }

  http "login" {
    method = "post"
    path   = "${local.api_path}/login"
    json   = { user = data.users.user, password = data.users.password, vu = vu.id }
    check {
      status = [200, "2xx"]
      json   = { "ok" = true }
    }
    capture "token" {
      json = "token"
    }
  }

  http "quote" {
    path             = "/api/stocks/${capture.token}/${iter}"
    name             = "/api/stocks/{symbol}"
    query            = { full = "yes", n = 2 }
    headers          = { Authorization = "Bearer ${capture.token}" }
    timeout          = "2s"
    follow_redirects = false
    max_redirects    = 0
    fail_on_check    = false
    think_time       = "250ms"
    check {
      status         = "200-299"
      headers        = { "Content-Type" = "application/json" }
      header_matches = { "X-Id" = "^[0-9]+$" }
      body_contains  = ["price", "symbol"]
      body_matches   = "\"price\":\\s*[0-9]"
      max_duration   = "500ms"
    }
    capture "id" {
      header   = "X-Id"
      required = false
    }
  }

  sleep {
    duration = "100ms..200ms"
  }

  http "form" {
    method = "PUT"
    url    = "http://127.0.0.1:9/form"
    form   = { a = "1", b = "x${vu.id}" }
  }
}

scenario "stream" {
  target = target.api

  websocket "scope" {
    path             = "/api/oscilloscope/ws"
    query            = { frequency = 20 }
    headers          = { Authorization = "Bearer ${var.token}" }
    subprotocols     = ["v1"]
    timeout          = "3s"
    max_message_size = 4096
    compression      = true
    session          = "persistent"

    reconnect {
      max_attempts = 4
      backoff      = "constant"
      initial      = "50ms"
      max          = "1s"
    }

    on_message "heartbeat" {
      match {
        json = { type = "heartbeat" }
      }
      reply {
        text = "pong"
      }
    }

    send "start" {
      json     = { command = "start" }
      repeat   = 2
      interval = "10ms"
    }
    expect "samples" {
      json   = { type = "data" }
      count  = 3
      within = "2s"
      strict = true
      capture "seq" {
        json = "seq"
      }
    }
    send "who" {
      json = { command = "who", vu = vu.id, seq = capture.seq }
    }
    receive "watch" {
      duration    = "1s"
      expect_rate = 10
    }
    ping "rtt" {}
    sleep {
      duration = "50ms"
    }
    close {
      code        = 1001
      expect_code = 1000
    }
  }

  load {
    model             = "arrival_rate"
    start_rate        = 60
    time_unit         = "1m"
    pre_allocated_vus = 2
    max_vus           = 4

    stage {
      duration = "30s"
      target   = 120
    }
  }
}

load {
  start_vus          = 1
  graceful_ramp_down = "5s"
  graceful_stop      = "10s"

  stage {
    duration = "10s"
    target   = 10
  }
  stage {
    duration = "20s"
    target   = 0
  }
}

threshold "http_req_duration{scenario=rest,step=quote}" {
  conditions    = ["p(95) < 300ms", "max < 2s"]
  abort_on_fail = true
  delay         = "10s"
  window        = "1m"
}

threshold "ws_expect_failed{step=samples}" {
  condition = "rate == 0"
}

threshold "http_req_failed" {
  condition = "rate < 1%"
  stage     = 2
}

output "csv" {
  path       = "results/run.csv.gz"
  aggregated = true
}

output "prometheus" {
  listen = "127.0.0.1:0"
  linger = "5s"
  testid = "t1"
}

output "influxdb" {
  url            = "http://127.0.0.1:8086"
  bucket         = "db/rp"
  token          = env("LOADPLAN_TEST_INFLUX", "none")
  batch_size     = 100
  flush_interval = "2s"
  required       = false
}

output "json" {}
