# The portfolio step uses a token captured by a later step.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "portfolio" {
    path    = "/api/portfolio"
    headers = { Authorization = "Bearer ${capture.token}" }
  }
  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = "u" }
    capture "token" { json = "token" }
  }
}
