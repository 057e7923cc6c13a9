# The user classes of a Locust file as loadplan scenarios (issue 12): a REST user that logs in
# once per VU and runs weighted tasks, and a reconnecting WebSocket client as one repeat.
target "api" {
  base_url = "http://127.0.0.1:9"
}

data "accounts" {
  csv = "users.csv"
}

scenario "rest" {
  pacing = "2s"

  setup {
    http "login" {
      method = "POST"
      path   = "/api/login"
      json   = { user = data.accounts.user, password = data.accounts.password }
      capture "token" { json = "token" }
    }
  }

  task "browse" {
    weight = 3
    http "items" {
      path    = "/api/items"
      headers = { Authorization = "Bearer ${vu.token}" }
      capture "first" { json = "items.0.id" }
    }
    http "item" {
      when = capture.first != ""
      path = "/api/items/${capture.first}"
    }
  }

  task "order" {
    weight = 1
    when   = vu.id % 2 == 0
    repeat {
      while = iter < 100
      max   = 3
      http "poll" {
        path = "/api/orders?vu=${vu.id}"
        capture "state" { json = "state" }
      }
    }
  }

  teardown {
    http "logout" {
      method  = "POST"
      path    = "/api/logout"
      headers = { Authorization = "Bearer ${vu.token}" }
    }
  }

  load {
    vus      = 4
    duration = "10s"
  }
}

scenario "reconnect" {
  iterations_per_second = 0.5

  repeat {
    count = 5
    websocket "feed" {
      path = "/ws"
      send "hello" { json = { type = "hello", iter = iter } }
      expect "data" { json = { type = "data" } }
    }
    sleep { duration = "100ms" }
  }
}
