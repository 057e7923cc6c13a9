# ws_* metrics need a websocket block.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
threshold "ws_expect_failed" { condition = "rate == 0" }
