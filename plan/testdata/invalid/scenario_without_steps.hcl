# A scenario must do something.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  think_time = "1s"
}
