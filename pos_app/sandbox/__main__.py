from pos_app.sandbox.cli import main

main()
