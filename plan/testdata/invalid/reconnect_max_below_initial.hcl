# The backoff ceiling is below its start.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "stream" {
  websocket "market" {
    path = "/api/market/ws"
    reconnect {
      initial = "2s"
      max     = "1s"
    }
    receive "ticks" { duration = "5s" }
  }
}
