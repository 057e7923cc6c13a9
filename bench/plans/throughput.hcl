# Throughput: a fixed number of VUs with no think time hammer a trivial endpoint; each VU keeps its
# own keep-alive connection, like `wrk -c N` or `hey -c N`. Used by `make bench` (bench/run.sh).

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
  default = "10s"
}

target "bench" {
  base_url = var.host
  timeout  = "10s"
}

scenario "hammer" {
  target = target.bench

  http "ok" {
    path = "/"
  }
}

load {
  vus          = var.vus
  duration     = var.duration
  graceful_stop = "5s"
}
