# A frame's JSON key written as an attribute of expect (and of an on_message match).
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "scope" {
  websocket "feed" {
    path = "/ws"
    on_message "hb" {
      match { type = "heartbeat" }
      reply { json = { type = "pong" } }
    }
    expect "data" {
      type = "data"
    }
  }
}
