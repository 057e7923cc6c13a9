# Functions whose result would be far larger than their arguments are refused before they build it.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

locals {
  joined   = join("", [for i in range(1e9) : "x"])
  padded   = format("%1000000000d", 1)
  kb       = join("", [for i in range(1024) : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"])
  spread   = replace(local.kb, "", local.kb)
  repeated = format("%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s", replace(local.kb, "x", "xxxxxxxxxxxxxxxxxxxx"))
  pieces   = split("", replace(local.kb, "x", "xxxxxxxxxx"))
  nested   = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
