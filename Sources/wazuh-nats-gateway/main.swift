print("wazuh-nats-gateway: skeleton")
