# Throughput: a fixed number of VUs with no think time hammer a trivial endpoint; each VU keeps its
# own keep-alive connection, like `wrk -c N` or `hey -c N`. Used by `make bench` (bench/run.sh) on
# the bench server's plain http and https (HTTP/1.1 over TLS, self-signed) listeners.

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

# The bench server's certificate is self-signed and made at its start; no peer verifies it either.
variable "insecure" {
  type    = bool
  default = true
}

target "bench" {
  base_url             = var.host
  timeout              = "10s"
  insecure_skip_verify = var.insecure
}

scenario "hammer" {
  target = target.bench

  http "ok" {
    path = "/"
  }
}

load {
  vus           = var.vus
  duration      = var.duration
  graceful_stop = "5s"
}
