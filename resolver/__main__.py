from resolver.entry import main

main()
