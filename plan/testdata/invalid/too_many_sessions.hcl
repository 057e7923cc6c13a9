# 300,000 VUs each holding two WebSocket sessions: 600,000 sessions, past the 500,000 one instance
# holds; and two scenarios whose loads add up past 1,000,000 VUs.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "chat" {
  websocket "a" {
    path = "/ws"
    send "hi" { text = "hi" }
  }
  websocket "b" {
    path = "/ws"
    send "hi" { text = "hi" }
  }
  load {
    vus      = 300000
    duration = "1m"
  }
}

scenario "rest" {
  http "health" { path = "/api/health" }
  load {
    vus      = 800000
    duration = "1m"
  }
}
