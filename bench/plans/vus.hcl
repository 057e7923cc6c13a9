# Memory per VU: many VUs that each make one request per second on their own keep-alive
# connection, as real users do. The VUs ramp up over `ramp`, then hold for `hold`. Used by
# `make bench` (bench/run.sh), which divides the generator's peak RSS by the VU count.

variable "host" {
  type    = string
  default = "http://127.0.0.1:8080"
}

variable "vus" {
  type    = number
  default = 1000
}

variable "ramp" {
  type    = string
  default = "5s"
}

variable "hold" {
  type    = string
  default = "10s"
}

target "bench" {
  base_url = var.host
  timeout  = "10s"
}

scenario "idle" {
  target     = target.bench
  think_time = "1s"

  http "ok" {
    path = "/"
  }
}

load {
  graceful_stop      = "5s"
  graceful_ramp_down = "5s"

  stage {
    duration = var.ramp
    target   = var.vus
  }
  stage {
    duration = var.hold
    target   = var.vus
  }
}
