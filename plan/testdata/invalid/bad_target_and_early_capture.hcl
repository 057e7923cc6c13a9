# The scenario's target is misspelt, and a step reads a capture a later step defines:
# both are reported in one run.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "x" {
  target = target.apii
  http "a" {
    path = "/orders/${capture.order}"
  }
  http "b" {
    path = "/orders"
    capture "order" { json = "id" }
  }
}
