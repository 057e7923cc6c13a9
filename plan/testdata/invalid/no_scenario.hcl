# A plan without scenarios does nothing.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

load {
  vus      = 5
  duration = "30s"
}
