# HTTP/2 throughput: the throughput plan against the bench server's h2 listener (TLS, ALPN offers
# h2 first), so each VU negotiates HTTP/2 on its own connection with one request in flight, like
# `h2load -c N -m 1`. Used by `make bench` (bench/run.sh), which checks that the server answered
# every request over HTTP/2.

variable "host" {
  type    = string
  default = "https://127.0.0.1:8443"
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

scenario "h2" {
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
