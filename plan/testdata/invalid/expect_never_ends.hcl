# within = "0s" leaves an expect without a timeout.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "stream" {
  websocket "scope" {
    path = "/api/oscilloscope/ws"
    send "start" {
      json = { command = "start" }
    }
    expect "data" {
      json   = { type = "data" }
      within = "0s"
    }
  }
}
