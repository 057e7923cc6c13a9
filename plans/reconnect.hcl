# reconnect.hcl — WebSocket clients that lose their connection and come back, as mobile clients
# do. The demo's ?drop_after=K cuts every connection abruptly after K frames; each VU keeps one
# persistent session and reconnects with exponential backoff. ?symbols= makes the server resume the
# subscription on every (re)connect, and the on_message rule answers the server's heartbeats
# wherever they arrive. ws_reconnects counts the comebacks and ws_reconnect_duration how long they
# took.
#
#   loadplan apply --demo plans/reconnect.hcl

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

variable "drop_after" {
  type        = number
  default     = 40
  description = "Frames after which the demo server drops each connection."
}

target "api" {
  base_url = var.host
}

scenario "reconnect" {
  target = target.api

  websocket "market" {
    path    = "/api/market/ws"
    query   = { drop_after = var.drop_after, rate = 10, symbols = "AAPL", heartbeat_ms = 1000 }
    session = "persistent"
    timeout = "5s"

    reconnect {
      max_attempts = 10
      backoff      = "exponential"
      initial      = "100ms"
      max          = "2s"
    }

    on_message "heartbeat" {
      match {
        json = { type = "heartbeat" }
      }
      reply {
        json = { type = "pong" }
      }
    }

    send "subscribe" {
      json = { action = "subscribe", symbols = ["AAPL"] }
    }
    expect "subscribed" {
      json   = { type = "subscribed" }
      within = "3s"
    }
    receive "ticks" {
      duration = "5s"
    }
  }
}

load {
  stage {
    duration = "10s"
    target   = 20
  }
  stage {
    duration = "1m"
    target   = 20
  }
  stage {
    duration = "10s"
    target   = 0
  }
}

threshold "ws_reconnects" { condition = "count > 0" }
threshold "ws_reconnect_duration" { condition = "p(95) < 3s" }
threshold "ws_expect_failed{step=subscribed}" { condition = "rate < 0.05" }
