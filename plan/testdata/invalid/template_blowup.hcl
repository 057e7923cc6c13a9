# A request body whose template repeats a 112 KB local a million times: refused while loading.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

locals {
  chunk = join("", [for i in range(1000) : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"])
}

scenario "rest" {
  target = target.api
  http "upload" {
    method = "POST"
    path   = "/api/upload"
    body   = "%{for i in range(1000)}%{for j in range(1000)}${local.chunk}-${vu.id}%{endfor}%{endfor}"
  }
}
