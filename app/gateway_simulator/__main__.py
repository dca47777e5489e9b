from app.gateway_simulator.server import main

main()
