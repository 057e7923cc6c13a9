# WebSocket round trips: each VU keeps one persistent session to the bench server's /echo and, per
# iteration, sends a frame and waits for its echo (send → expect), with no think time. Used by
# `make bench` (bench/run.sh), which compares ws_msgs_sent and ws_msgs_received with the frames the
# server read and echoed, and round trips per CPU-second with k6's.

variable "host" {
  type    = string
  default = "http://127.0.0.1:8080"
}

variable "vus" {
  type    = number
  default = 50
}

variable "duration" {
  type    = string
  default = "5s"
}

target "bench" {
  base_url = var.host
  timeout  = "10s"
}

scenario "echo" {
  target = target.bench

  websocket "echo" {
    path    = "/echo"
    session = "persistent"

    send "ping" {
      text = "ping"
    }
    expect "pong" {
      equals = "ping"
      within = "5s"
    }
  }
}

load {
  vus           = var.vus
  duration      = var.duration
  graceful_stop = "5s"
}
