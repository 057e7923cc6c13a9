# A feeder pointed at a device: /dev/zero never ends, so it must be refused before it is read.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "users" { csv = "/dev/zero" }

scenario "rest" {
  http "login" {
    path = "/api/login/${data.users.name}"
  }
}
