# No step captures "tokn".
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = "u" }
    capture "token" { json = "token" }
  }
  http "portfolio" {
    path    = "/api/portfolio"
    headers = { Authorization = "Bearer ${capture.tokn}" }
  }
}
