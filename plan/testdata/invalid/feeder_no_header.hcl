# The CSV file is empty: no header line.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "users" { csv = "empty.csv" }
scenario "rest" {
  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = data.users.name }
  }
}
