# There is no uuidv4(); the function is uuid().
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "order" {
    method = "POST"
    path   = "/api/orders"
    json   = { id = uuidv4() }
  }
}
