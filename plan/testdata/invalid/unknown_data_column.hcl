# The CSV file has no column "nmae".
target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "symbols" { csv = "symbols.csv" }
scenario "rest" {
  http "quote" {
    path = "/api/stocks/${data.symbols.nmae}"
  }
}
