# Two websocket blocks have a step "ack": say which one.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "stream" {
  websocket "a" {
    path = "/api/oscilloscope/ws"
    expect "ack" { json = { type = "configured" } }
  }
  websocket "b" {
    path = "/api/oscilloscope/ws"
    expect "ack" { json = { type = "configured" } }
  }
}
threshold "ws_expect_failed{step=ack}" { condition = "rate == 0" }
