# A send step sends one message.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "stream" {
  websocket "scope" {
    path = "/api/oscilloscope/ws"
    send "start" {
      text = "start"
      json = { command = "start" }
    }
  }
}
