from farm.payments.emulator import main

main()
