# Open-model accuracy and soak: a fixed arrival rate of iterations per second against a trivial
# endpoint. Used by `make bench` (bench/run.sh), which compares the achieved iterations and
# dropped_iterations of the summary export with rate x duration.

variable "host" {
  type    = string
  default = "http://127.0.0.1:8080"
}

variable "rate" {
  type    = number
  default = 1000
}

variable "duration" {
  type    = string
  default = "10s"
}

variable "vus" {
  type    = number
  default = 200
}

variable "max_vus" {
  type    = number
  default = 2000
}

target "bench" {
  base_url = var.host
  timeout  = "10s"
}

scenario "arrivals" {
  target = target.bench

  http "ok" {
    path = "/"
  }
}

load {
  model                  = "arrival_rate"
  rate                   = var.rate
  duration               = var.duration
  pre_allocated_vus      = var.vus
  max_vus                = var.max_vus
  graceful_stop          = "5s"
  max_dropped_iterations = -1
  max_schedule_lag       = "0s"
}
