from cotbench.cli import main

main()
