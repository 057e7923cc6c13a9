# A capture reads from one place.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "login" {
    method = "POST"
    path   = "/api/login"
    capture "token" {
      json   = "token"
      header = "X-Token"
    }
  }
}
