from locust import HttpUser, task, constant
class U(HttpUser):
    wait_time = constant(0.05)
    @task
    def items(self):
        self.client.get("/items/1", name="/items/[id]")
    @task
    def fail(self):
        self.client.get("/fail")
    @task
    def boom(self):
        raise ValueError("boom")
