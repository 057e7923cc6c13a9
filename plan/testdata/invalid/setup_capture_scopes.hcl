# Every wrong way to read a capture across setup, tasks and teardown.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  setup {
    http "login" {
      path    = "/api/login?v=${vu.session}&i=${iter}"
      capture "token" { json = "token" }
    }
    http "session" {
      path = "/api/session/${capture.token}"
      capture "session" { json = "id" }
      capture "id" { json = "user_id" }
    }
  }

  task "browse" {
    http "items" {
      path    = "/api/items/${capture.token}"
      headers = { Authorization = vu.cart, X = vu.tokn }
      capture "cart" { json = "cart" }
    }
  }

  task "order" {
    http "buy" {
      path = "/api/buy/${capture.cart}?u=${vu.bye}"
    }
  }

  teardown {
    http "logout" {
      path = "/api/logout/${capture.cart}/${vu.token}"
      capture "bye" { json = "ok" }
    }
  }
}
