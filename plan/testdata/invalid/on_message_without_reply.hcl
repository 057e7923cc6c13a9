# An on_message rule needs both match and reply.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "stream" {
  websocket "market" {
    path = "/api/market/ws"
    on_message "heartbeat" {
      match {
        json = { type = "heartbeat" }
      }
    }
    receive "ticks" { duration = "5s" }
  }
}
