from kontingent.cli import main

main()
