from maker.cli import main

main()
