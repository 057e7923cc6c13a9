# A misspelt session mode.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "stream" {
  websocket "scope" {
    path    = "/api/oscilloscope/ws"
    session = "persistant"
    send "start" {
      json = { command = "start" }
    }
  }
}
