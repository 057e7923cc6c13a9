# reconnect-loop.hcl — replaces the seed's Locust ReconnectUser, whose client connects, reads a few
# ticks, drops the connection and comes back, five times a turn. Here that is one `repeat`: each
# iteration opens the market WebSocket 5 times (?symbols= subscribes on connect), expects the
# acknowledgement and 5 ticks, closes, and waits half a second before the next connection. The
# server sees 5 sessions per iteration. (plans/reconnect.hcl is the other kind of client: one
# persistent session that the server cuts and the reconnect policy restores.)
#
#   loadplan apply --demo plans/reconnect-loop.hcl

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

variable "reconnects" {
  type        = number
  default     = 5
  description = "Connections per iteration."
}

target "api" {
  base_url = var.host
}

scenario "reconnect" {
  target     = target.api
  think_time = "1s"

  repeat {
    count = var.reconnects
    websocket "market" {
      path    = "/api/market/ws"
      query   = { symbols = "AAPL", rate = 20 }
      timeout = "5s"

      expect "subscribed" {
        json   = { type = "subscribed" }
        within = "2s"
      }
      expect "ticks" {
        json   = { type = "tick" }
        count  = 5
        within = "3s"
      }
      close {}
    }
    sleep { duration = "500ms" }
  }

  load {
    vus      = 10
    duration = "1m"
  }
}

threshold "ws_sessions" { condition = "count > 0" }
threshold "ws_expect_failed" { condition = "rate < 0.01" }
