# The web's words in English. Keys are the same in es/main.ftl; a test fails on a key
# missing from either, or one no page uses. Money and dates arrive already formatted.

## Every page

bank-name = Ferrous Bank
skip-link = Skip to main content
language-nav-label = Language
nav-label = Main
nav-accounts = Accounts
nav-transfer = Transfer
nav-payees = Payees
nav-deposit = Deposit
nav-settings = Settings
nav-sign-out = Sign out
footer-text = Ferrous Bank – a demonstration bank. Money is kept to the cent; nothing here is real.
title-error-prefix = Error:
error-summary-title = There is a problem
error-prefix = Error:
back-to-accounts = Back to your accounts
back-link = Back

## Shared fields and words

account-heading = { $kind } account
account-kind-checking = Checking
account-kind-savings = Savings
account-number = Account number
account-number-hint = 10 digits, like 1234 567 890
account-balance = Balance
account-choice-title = { $kind }
account-choice-balance = Balance { $balance }
account-label = { $kind } { $number }
amount-label = Amount
description-label = Description (optional)
description-key = Description
description-none = None
username-label = Username
password-label = Password
email-label = Email address
payee-name-label = Payee name
payee-name-hint = Up to { $max } characters, like the name of the person or company
no-transactions = No transactions yet.

## Transactions

tx-caption = Transactions, newest first
tx-date = Date
tx-details = Details
tx-amount = Amount
tx-in = In
tx-out = Out
tx-deposit = Deposit
tx-from = from
tx-to = to

## Sign in, sign up, sign out

login-title = Sign in
login-submit = Sign in
login-new = New to Ferrous Bank?
login-open-account = Open an account
login-demo = Try the demo: sign in as { $users } with the password
login-demo-or = or
login-ended = Your session has ended. Sign in again to continue.
login-signed-out = You have signed out.
login-enter-username = Enter your username
login-enter-password = Enter your password
login-wrong = Enter a correct username and password
login-throttled = There have been too many failed attempts to sign in from here. Wait a minute and try again
signup-title = Open an account
signup-intro = You get a checking account straight away.
signup-username-hint = { $min } to { $max } characters: letters, digits, full stops, hyphens or underscores
signup-email-hint = We will only use this to contact you about your account
signup-password-label = Create a password
signup-password-hint = At least { $min } characters
signup-submit = Open account
signup-already = Already a customer?
signup-username-enter = Enter a username
signup-username-rule = Username must be { $min } to { $max } letters, digits, full stops, hyphens or underscores, starting with a letter or digit
signup-username-taken = That username is taken. Choose another one
signup-email-enter = Enter your email address
signup-email-rule = Enter an email address in the correct format, like name@example.com
signup-password-enter = Enter a password
signup-password-short = Password must be { $min } characters or more
signup-password-long = Password must be { $max } characters or fewer
signup-password-rule = Password must be { $min } to { $max } characters
signup-refused = Check your details and try again

## The accounts

dashboard-title = Your accounts
dashboard-signed-in-as = Signed in as
dashboard-total = Total balance
dashboard-transfer = Transfer money
dashboard-deposit = Deposit
dashboard-latest = Latest transactions
dashboard-view-all = View all transactions
dashboard-view-all-for = for { $kind } account { $number }
dashboard-open-account = Open an account
dashboard-open-account-hint = – another checking or savings account, up to { $max } in all
account-title = { $kind } account { $number }
account-transactions = Transactions
account-no-older = No older transactions.
account-pages-label = Pages of transactions
account-newest = Newest
account-older = Older transactions
chart-title = Balance over the last { $days } days
chart-summary = From { $first } to { $last } the balance went from { $start } to { $end }. It was lowest at { $lowest } and highest at { $highest }.
chart-svg-title = Chart of the balance of { $kind } account { $number }, day by day over the last { $days } days
chart-flat = No money has gone in or out of this account in the last { $days } days, so there is no chart. The balance has stayed at { $balance }.
chart-unavailable = The chart of the balance cannot be shown right now. Try again later.
statement-title = Download a statement
statement-intro = A CSV file for a spreadsheet: every payment in and out between the two dates, with the balance after each, and the balance at the start and the end. Up to { $days } days.
statement-from = From
statement-from-hint = The first day it covers
statement-to = To
statement-to-hint = The last day it covers
statement-download = Download statement (CSV)
statement-from-enter = Enter the date the statement starts
statement-to-enter = Enter the date the statement ends
statement-from-real = The date the statement starts must be a real date, like 2026-11-01
statement-to-real = The date the statement ends must be a real date, like 2026-11-01
statement-order = The date the statement ends must be the same as or after the date it starts
statement-too-long = A statement can cover up to { $days } days. Choose a shorter period

## Open an account

open-title = Open an account
open-intro = Your new account starts with a balance of { $zero } and an account number of its own. Move money into it with a transfer from one of your accounts.
open-held = You have { $held ->
    [one] { $held } account
   *[other] { $held } accounts
  }. You can have up to { $max }.
open-legend = What type of account do you want to open?
open-checking-label = Checking account
open-checking-hint = For everyday spending and payments
open-savings-label = Savings account
open-savings-hint = For money you want to put aside
open-submit = Open account
open-choose = Select the type of account to open
open-limit = You have { $max } accounts, the most you can have. You cannot open another one
opened-title = { $kind } account opened
opened-type = Type
opened-empty = It is empty for now. Move money into it from one of your other accounts with a transfer.
opened-move-money = Move money into it
opened-view = View the account

## Transfer

transfer-title = Transfer money
transfer-no-accounts = You have no account to send money from.
transfer-from-legend = Which account should the money come from?
transfer-from-hint = The money leaves this account when you confirm.
transfer-payees-legend = Saved payees
transfer-payees-hint = Choose who to pay, or enter an account number below. A number you enter is used instead.
transfer-to-or-label = Or an account number to send money to
transfer-to-label = Account number to send money to
transfer-to-hint = 10 digits, like 1234 567 890. Ask the person you are paying for it.
transfer-amount-hint = In dollars and cents, like { $example }
transfer-description-hint = Up to { $max } characters. The recipient will see this.
transfer-continue = Continue
transfer-payee-saved = Payee saved. You can choose them under Saved payees.
transfer-from-choose = Select the account to send money from
transfer-from-yours = Select one of your accounts
transfer-to-enter = Enter the account number to send money to
transfer-to-rule = Enter an account number of { $digits } digits, like 1234 567 890
transfer-to-same = Enter a different account: money cannot go to the account it comes from
transfer-to-unknown = There is no account with this number. Check the number and try again
transfer-too-much = The amount is more than the money in this account ({ $balance })
transfer-key-broken = This form could not be used. Check the details and try again
transfer-key-reused = This form was already used for a different transfer. Check the details and send it again
transfer-refused = The bank could not make this transfer. Check the details and try again
review-title = Check your transfer
review-change = Change
review-change-from = the account the money comes from
review-change-to = the account number
review-change-amount = the amount
review-change-description = the description
review-to-key = To account
review-warning-label = Warning
review-warning = Check the account number. Money sent to the wrong account may not come back.
review-send = Send { $amount }
review-cancel = Cancel
transfer-from-key = From
transfer-done-title = Transfer complete
transfer-done-sent = You sent
transfer-done-to = to
transfer-reference = Reference
transfer-save-payee-title = Save this payee
transfer-save-payee-before = Save
transfer-save-payee-after = to pay them again without typing the number.
transfer-another = Make another transfer

## Amounts and descriptions

amount-enter = Enter an amount
amount-not-number = Enter an amount in numbers, like { $example }
amount-separators = Enter the amount as { $example }: { $decimal } before the cents, and { $group } only between thousands
amount-places = Enter an amount with no more than 2 decimal places, like { $example }
amount-positive = Enter an amount greater than 0
amount-too-large = Enter an amount of { $max } or less
description-too-long = Description must be { $max } characters or fewer
description-forbidden = Description must not contain line breaks or control characters
amount-refused = The bank could not accept this amount. Check it and try again
description-refused = The bank could not accept this description. Check it and try again
separator-point = a point
separator-comma = a comma

## Deposit

deposit-title = Deposit money
deposit-account-legend = Which account should the money go into?
deposit-account-hint = Money you pay in from outside the bank.
deposit-amount-hint = In dollars and cents, like { $example }
deposit-description-hint = Up to { $max } characters, for your own records
deposit-submit = Deposit
deposit-account-choose = Select the account to put the money in
deposit-key-reused = This form was already used for a different deposit. Check the details and send it again
deposit-refused = The bank could not take this deposit. Check the details and try again
deposit-done-title = Deposit received
deposit-done-before = You paid in
deposit-done-after = to your { $account }

## Payees

payees-title = Payees
payees-intro-before = The people and companies you pay. Choose one on the
payees-intro-link = transfer form
payees-intro-after = instead of typing their account number.
payees-none = You have no saved payees yet.
payees-list-label = Your saved payees
payees-remove = Remove
payees-add-title = Add a payee
payees-name-hint = Up to { $max } characters, like the name of the person or company. You can save up to { $payees } payees.
payees-save = Save payee
payees-saved = Payee saved.
payees-removed = Payee removed.
payee-name-enter = Enter the payee's name
payee-name-too-long = Payee name must be { $max } characters or fewer
payee-name-forbidden = Payee name must not contain line breaks or control characters
payee-number-enter = Enter the payee's account number
payee-number-taken = You have already saved a payee with this account number
payee-name-refused = The bank could not accept this name. Check it and try again
payee-limit = You have { $max } saved payees, the most you can have. Remove one to add another

## Settings

settings-title = Settings
settings-token-title = Your read-only token
settings-token-lifetime = It works for { $lifetime }, or until you sign out. Copy it now: it will not be shown again.
settings-token-label = Token
settings-token-use-before = Send it as
settings-token-use-after = to the GraphQL API. It can read your accounts and history but cannot move money.
settings-share-title = Share read-only access
settings-share-intro = Create a token that lets someone, such as your accountant, see your accounts and transactions without being able to move money.
settings-ttl-legend = How long should the token work?
settings-ttl-hint = Signing out ends it sooner.
settings-ttl-hour = 1 hour
settings-ttl-day = 1 day
settings-ttl-week = 7 days
settings-create = Create token
settings-ttl-choose = Select how long the token should work

## Error pages

error-go-to-accounts = Go to your accounts
error-forbidden-title = You cannot do that
error-forbidden = Your sign-in does not allow this. Sign out, sign in again and retry.
error-bad-input-title = There is a problem
error-bad-input = The bank could not accept this. Go back, check the details and try again.
error-not-found-title = Page not found
error-not-found = If you typed the web address, check it is correct. If you followed a link, the page may have moved or the account may not be yours.
error-funds-title = Not enough money
error-funds = There is not enough money in the account for this.
error-conflict = This was already done with other details. Go back, reload the page and try again.
error-rate-limited-title = Too many attempts
error-rate-limited = There have been too many failed attempts. Wait a minute and try again.
error-unavailable-title = Sorry, the bank is unavailable
error-unavailable = We cannot reach our banking service right now. Your money is safe. Try again in a few minutes.
error-internal-title = Sorry, there is a problem with the service
error-internal = Something went wrong on our side. Try again later. If you were making a payment, check your accounts before trying again.
error-csrf-title = This form could not be accepted
error-csrf = The form had expired or did not come from this site, so nothing was changed. Go back, reload the page and try again.
error-bad-form = The form could not be read. Go back and try again.
