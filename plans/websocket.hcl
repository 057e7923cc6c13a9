# websocket.hcl — replaces the seed's Locust OscilloscopeUser. The oscilloscope protocol, step by
# step: start the stream, expect data frames,
# change the frequency and wait for the acknowledgement, watch the stream at the new rate, stop
# and expect the final frame. Each step is its own row in the summary (ws_expect_duration,
# ws_expect_failed by step). A heartbeat rule answers server pings in any step.
#
#   loadplan apply --demo plans/websocket.hcl

variable "host" {
  type    = string
  default = "http://127.0.0.1:8000"
}

variable "frequency" {
  type        = number
  default     = 50
  description = "Frames per second requested by the configure step."
}

target "api" {
  base_url = var.host
}

scenario "oscilloscope" {
  target     = target.api
  think_time = "1s"

  websocket "scope" {
    path    = "/api/oscilloscope/ws"
    headers = { Authorization = "Bearer ${env("WS_AUTH_TOKEN", "demo")}" }

    on_message "heartbeat" {
      match {
        json = { type = "heartbeat" }
      }
      reply {
        json = { type = "pong" }
      }
    }

    send "start" {
      json = { command = "start" }
    }
    expect "samples" {
      json   = { type = "data" }
      count  = 10
      within = "2s"
    }
    send "configure" {
      json = { command = "configure", frequency = var.frequency }
    }
    expect "configured" {
      json   = { type = "configured", frequency = var.frequency }
      within = "1s"
    }
    receive "stream" {
      duration    = "3s"
      expect_rate = var.frequency * 0.8
    }
    send "stop" {
      json = { command = "stop" }
    }
    expect "stopped" {
      json   = { type = "stopped" }
      within = "2s"
      capture "frames" { json = "frames" }
    }
    close {
      code = 1000
    }
  }
}

load {
  vus      = 10
  duration = "1m"
}

threshold "ws_expect_failed" { condition = "rate == 0" }
threshold "ws_expect_duration{step=configured}" { condition = "p(95) < 200ms" }
threshold "ws_expect_duration{step=samples}" { condition = "p(95) < 1s" }
threshold "ws_sessions" { condition = "count > 0" }
