# Persistent WebSocket sessions: each VU holds one connection across iterations and receives the
# frames the bench server pushes (one a second per session). The VUs ramp up over `ramp`, then hold
# for `hold`. Used by `make bench` (bench/run.sh) for memory and CPU per session.

variable "host" {
  type    = string
  default = "http://127.0.0.1:8080"
}

variable "vus" {
  type    = number
  default = 10000
}

variable "ramp" {
  type    = string
  default = "10s"
}

variable "hold" {
  type    = string
  default = "15s"
}

target "bench" {
  base_url = var.host
  timeout  = "30s"
}

scenario "stream" {
  target = target.bench

  websocket "ticks" {
    path    = "/ws"
    session = "persistent"
    timeout = "30s"

    receive "frames" {
      duration = "5s"
    }
  }
}

load {
  graceful_stop      = "10s"
  graceful_ramp_down = "10s"

  stage {
    duration = var.ramp
    target   = var.vus
  }
  stage {
    duration = var.hold
    target   = var.vus
  }
}
