# Values read with env() (here their defaults, as the environment is empty) and a sensitive
# variable are invalid in every attribute that checks its value: each diagnostic names the
# attribute and says (sensitive), never the value.
variable "token" {
  type      = string
  sensitive = true
  default   = "tok3n-(hidden"
}

target "api" {
  base_url = env("SECRET_URL", "s3cr3t-not-a-url")
  timeout  = env("SECRET_TIMEOUT", "s3cr3t-10x")
}

target "scheme" {
  base_url = env("SECRET_SCHEME_URL", "s3cr3tscheme://127.0.0.1:8000")
}

scenario "rest" {
  target     = target.scheme
  think_time = env("SECRET_THINK", "s3cr3t-1s..2s")
  http "a" {
    method = env("SECRET_METHOD", "s3cr3t-GETT")
    path   = "/"
    check {
      status         = env("SECRET_STATUS", "s3cr3t-2xx")
      body_matches   = env("SECRET_REGEX", "s3cr3t-(open")
      header_matches = { X-Token = var.token }
    }
    capture "c" { regex = "${var.token}-(" }
  }
  http "b" {
    url = env("SECRET_ABS_URL", "s3cr3t-relative/path")
  }
}

threshold "http_req_duration" {
  condition = env("SECRET_CONDITION", "p(95) < s3cr3t-ms")
}

output "prometheus" {
  listen = env("SECRET_LISTEN", "s3cr3t-no-port")
}
