# Las palabras de la web en español, tratando al cliente de usted. Las claves son las
# mismas que en en/main.ftl; una prueba falla si falta alguna en cualquiera de los dos, o
# si sobra una que ninguna página usa. Los importes y las fechas llegan ya formateados.

## Todas las páginas

bank-name = Ferrous Bank
skip-link = Saltar al contenido principal
language-nav-label = Idioma
nav-label = Principal
nav-accounts = Cuentas
nav-transfer = Transferir
nav-payees = Beneficiarios
nav-deposit = Ingresar
nav-settings = Ajustes
nav-sign-out = Cerrar sesión
footer-text = Ferrous Bank: un banco de demostración. El dinero se lleva al céntimo; nada de lo que aparece aquí es real.
title-error-prefix = Error:
error-summary-title = Hay un problema
error-prefix = Error:
back-to-accounts = Volver a sus cuentas
back-link = Volver

## Campos y palabras comunes

account-heading = Cuenta { $kind }
account-kind-checking = Corriente
account-kind-savings = Ahorro
account-number = Número de cuenta
account-number-hint = 10 cifras, por ejemplo 1234 567 890
account-balance = Saldo
account-choice-title = Cuenta { $kind }
account-choice-balance = Saldo: { $balance }
account-label = Cuenta { $kind } { $number }
amount-label = Importe
description-label = Concepto (opcional)
description-key = Concepto
description-none = Ninguno
username-label = Nombre de usuario
password-label = Contraseña
email-label = Correo electrónico
payee-name-label = Nombre del beneficiario
payee-name-hint = Hasta { $max } caracteres, por ejemplo el nombre de la persona o de la empresa
no-transactions = Todavía no hay movimientos.

## Movimientos

tx-caption = Movimientos, del más reciente al más antiguo
tx-date = Fecha
tx-details = Detalle
tx-amount = Importe
tx-in = Entrada
tx-out = Salida
tx-deposit = Ingreso
tx-from = de
tx-to = a

## Acceso, alta y salida

login-title = Acceder
login-submit = Acceder
login-new = ¿Todavía no es cliente de Ferrous Bank?
login-open-account = Abra una cuenta
login-demo = Pruebe la demostración: acceda como { $users } con la contraseña
login-demo-or = o
login-ended = Su sesión ha terminado. Vuelva a acceder para continuar.
login-signed-out = Ha cerrado la sesión.
login-enter-username = Introduzca su nombre de usuario
login-enter-password = Introduzca su contraseña
login-wrong = Introduzca un nombre de usuario y una contraseña correctos
login-throttled = Ha habido demasiados intentos fallidos de acceso desde aquí. Espere un minuto y vuelva a intentarlo
signup-title = Abra una cuenta
signup-intro = Dispondrá de una cuenta corriente al momento.
signup-username-hint = Entre { $min } y { $max } caracteres: letras, cifras, puntos, guiones o guiones bajos
signup-email-hint = Solo lo usaremos para comunicarnos con usted sobre su cuenta
signup-password-label = Cree una contraseña
signup-password-hint = Al menos { $min } caracteres
signup-submit = Abrir la cuenta
signup-already = ¿Ya es cliente?
signup-username-enter = Introduzca un nombre de usuario
signup-username-rule = El nombre de usuario debe tener entre { $min } y { $max } letras, cifras, puntos, guiones o guiones bajos, y empezar por una letra o una cifra
signup-username-taken = Ese nombre de usuario ya existe. Elija otro
signup-email-enter = Introduzca su correo electrónico
signup-email-rule = Introduzca un correo electrónico con el formato correcto, por ejemplo nombre@ejemplo.com
signup-password-enter = Introduzca una contraseña
signup-password-short = La contraseña debe tener { $min } caracteres o más
signup-password-long = La contraseña debe tener { $max } caracteres o menos
signup-password-rule = La contraseña debe tener entre { $min } y { $max } caracteres
signup-refused = Revise sus datos y vuelva a intentarlo

## Las cuentas

dashboard-title = Sus cuentas
dashboard-signed-in-as = Ha accedido como
dashboard-total = Saldo total
dashboard-transfer = Transferir dinero
dashboard-deposit = Ingresar dinero
dashboard-latest = Últimos movimientos
dashboard-view-all = Ver todos los movimientos
dashboard-view-all-for = de la cuenta { $kind } { $number }
dashboard-open-account = Abrir una cuenta
dashboard-open-account-hint = – otra cuenta corriente o de ahorro, hasta { $max } en total
account-title = Cuenta { $kind } { $number }
account-transactions = Movimientos
account-no-older = No hay movimientos anteriores.
account-pages-label = Páginas de movimientos
account-newest = Más recientes
account-older = Movimientos anteriores
chart-title = Saldo de los últimos { $days } días
chart-summary = Del { $first } al { $last } el saldo pasó de { $start } a { $end }. El mínimo fue de { $lowest } y el máximo, de { $highest }.
chart-svg-title = Gráfico del saldo de la cuenta { $kind } { $number }, día a día durante los últimos { $days } días
chart-flat = En los últimos { $days } días no ha entrado ni salido dinero de esta cuenta, así que no hay gráfico. El saldo se ha mantenido en { $balance }.
chart-unavailable = Ahora no se puede mostrar el gráfico del saldo. Vuelva a intentarlo más tarde.
statement-title = Descargar un extracto
statement-intro = Un archivo CSV para una hoja de cálculo: todos los cobros y pagos entre las dos fechas, con el saldo después de cada uno y el saldo al principio y al final. Hasta { $days } días.
statement-from = Desde
statement-from-hint = El primer día que incluye
statement-to = Hasta
statement-to-hint = El último día que incluye
statement-download = Descargar el extracto (CSV)
statement-from-enter = Introduzca la fecha de inicio del extracto
statement-to-enter = Introduzca la fecha de fin del extracto
statement-from-real = La fecha de inicio del extracto debe ser una fecha real, por ejemplo 2026-11-01
statement-to-real = La fecha de fin del extracto debe ser una fecha real, por ejemplo 2026-11-01
statement-order = La fecha de fin del extracto debe ser igual o posterior a la de inicio
statement-too-long = Un extracto puede abarcar hasta { $days } días. Elija un periodo más corto

## Abrir una cuenta

open-title = Abrir una cuenta
open-intro = Su nueva cuenta empieza con un saldo de { $zero } y un número de cuenta propio. Pase dinero a ella con una transferencia desde una de sus cuentas.
open-held = Tiene { $held ->
    [one] { $held } cuenta
   *[other] { $held } cuentas
  }. Puede tener hasta { $max }.
open-legend = ¿Qué tipo de cuenta quiere abrir?
open-checking-label = Cuenta corriente
open-checking-hint = Para los gastos y pagos del día a día
open-savings-label = Cuenta de ahorro
open-savings-hint = Para el dinero que quiere reservar
open-submit = Abrir la cuenta
open-choose = Seleccione el tipo de cuenta que quiere abrir
open-limit = Ya tiene { $max } cuentas, el máximo permitido. No puede abrir otra
opened-title = Cuenta { $kind } abierta
opened-type = Tipo
opened-empty = Por ahora está vacía. Pase dinero a ella desde otra de sus cuentas con una transferencia.
opened-move-money = Pasar dinero a esta cuenta
opened-view = Ver la cuenta

## Transferencias

transfer-title = Transferir dinero
transfer-no-accounts = No tiene ninguna cuenta desde la que enviar dinero.
transfer-from-legend = ¿De qué cuenta sale el dinero?
transfer-from-hint = El dinero sale de esta cuenta cuando usted confirma.
transfer-payees-legend = Beneficiarios guardados
transfer-payees-hint = Elija a quién pagar o introduzca un número de cuenta más abajo. Si introduce un número, se usará ese.
transfer-to-or-label = O un número de cuenta al que enviar el dinero
transfer-to-label = Número de cuenta al que enviar el dinero
transfer-to-hint = 10 cifras, por ejemplo 1234 567 890. Pídaselo a la persona a la que paga.
transfer-amount-hint = En dólares y centavos, por ejemplo { $example }
transfer-description-hint = Hasta { $max } caracteres. El destinatario lo verá.
transfer-continue = Continuar
transfer-payee-saved = Beneficiario guardado. Puede elegirlo en Beneficiarios guardados.
transfer-from-choose = Seleccione la cuenta desde la que enviar el dinero
transfer-from-yours = Seleccione una de sus cuentas
transfer-to-enter = Introduzca el número de cuenta al que enviar el dinero
transfer-to-rule = Introduzca un número de cuenta de { $digits } cifras, por ejemplo 1234 567 890
transfer-to-same = Introduzca otra cuenta: el dinero no puede ir a la misma cuenta de la que sale
transfer-to-unknown = No existe ninguna cuenta con este número. Compruebe el número y vuelva a intentarlo
transfer-too-much = El importe supera el dinero disponible en esta cuenta ({ $balance })
transfer-key-broken = No se ha podido usar este formulario. Revise los datos y vuelva a intentarlo
transfer-key-reused = Este formulario ya se usó para otra transferencia. Revise los datos y vuelva a enviarla
transfer-refused = El banco no ha podido hacer esta transferencia. Revise los datos y vuelva a intentarlo
review-title = Revise su transferencia
review-change = Cambiar
review-change-from = la cuenta de la que sale el dinero
review-change-to = el número de cuenta
review-change-amount = el importe
review-change-description = el concepto
review-to-key = Cuenta de destino
review-warning-label = Atención
review-warning = Compruebe el número de cuenta. El dinero enviado a una cuenta equivocada podría no recuperarse.
review-send = Enviar { $amount }
review-cancel = Cancelar
transfer-from-key = Desde
transfer-done-title = Transferencia realizada
transfer-done-sent = Ha enviado
transfer-done-to = a
transfer-reference = Referencia
transfer-save-payee-title = Guardar este beneficiario
transfer-save-payee-before = Guarde
transfer-save-payee-after = para volver a pagarle sin escribir el número.
transfer-another = Hacer otra transferencia

## Importes y conceptos

amount-enter = Introduzca un importe
amount-not-number = Introduzca el importe en cifras, por ejemplo { $example }
amount-separators = Escriba el importe así: { $example }, con { $decimal } antes de los céntimos y { $group } solo entre los miles
amount-places = Introduzca un importe con 2 decimales como máximo, por ejemplo { $example }
amount-positive = Introduzca un importe mayor que 0
amount-too-large = Introduzca un importe de { $max } o menos
amount-refused = El banco no ha podido aceptar este importe. Revíselo y vuelva a intentarlo
description-refused = El banco no ha podido aceptar este concepto. Revíselo y vuelva a intentarlo
separator-point = un punto
separator-comma = una coma
description-too-long = El concepto debe tener { $max } caracteres o menos
description-forbidden = El concepto no puede contener saltos de línea ni caracteres de control

## Ingresos

deposit-title = Ingresar dinero
deposit-account-legend = ¿En qué cuenta quiere ingresar el dinero?
deposit-account-hint = Dinero que ingresa desde fuera del banco.
deposit-amount-hint = En dólares y centavos, por ejemplo { $example }
deposit-description-hint = Hasta { $max } caracteres, para sus propios registros
deposit-submit = Ingresar
deposit-account-choose = Seleccione la cuenta en la que ingresar el dinero
deposit-key-reused = Este formulario ya se usó para otro ingreso. Revise los datos y vuelva a enviarlo
deposit-refused = El banco no ha podido aceptar este ingreso. Revise los datos y vuelva a intentarlo
deposit-done-title = Ingreso recibido
deposit-done-before = Ha ingresado
deposit-done-after = en su { $account }

## Beneficiarios

payees-title = Beneficiarios
payees-intro-before = Las personas y empresas a las que paga. Elija una en el
payees-intro-link = formulario de transferencia
payees-intro-after = en lugar de escribir su número de cuenta.
payees-none = Todavía no tiene beneficiarios guardados.
payees-list-label = Sus beneficiarios guardados
payees-remove = Eliminar
payees-add-title = Añadir un beneficiario
payees-name-hint = Hasta { $max } caracteres, por ejemplo el nombre de la persona o de la empresa. Puede guardar hasta { $payees } beneficiarios.
payees-save = Guardar el beneficiario
payees-saved = Beneficiario guardado.
payees-removed = Beneficiario eliminado.
payee-name-enter = Introduzca el nombre del beneficiario
payee-name-too-long = El nombre del beneficiario debe tener { $max } caracteres o menos
payee-name-forbidden = El nombre del beneficiario no puede contener saltos de línea ni caracteres de control
payee-number-enter = Introduzca el número de cuenta del beneficiario
payee-number-taken = Ya tiene guardado un beneficiario con este número de cuenta
payee-name-refused = El banco no ha podido aceptar este nombre. Revíselo y vuelva a intentarlo
payee-limit = Ya tiene { $max } beneficiarios guardados, el máximo permitido. Elimine uno para añadir otro

## Ajustes

settings-title = Ajustes
settings-token-title = Su token de solo lectura
settings-token-lifetime = Funciona durante { $lifetime } o hasta que cierre la sesión. Cópielo ahora: no se volverá a mostrar.
settings-token-label = Token
settings-token-use-before = Envíelo como
settings-token-use-after = a la API GraphQL. Permite consultar sus cuentas y movimientos, pero no mover dinero.
settings-share-title = Compartir el acceso de solo lectura
settings-share-intro = Cree un token que permita a otra persona, como su gestor, ver sus cuentas y movimientos sin poder mover dinero.
settings-ttl-legend = ¿Durante cuánto tiempo debe funcionar el token?
settings-ttl-hint = Si cierra la sesión, deja de funcionar antes.
settings-ttl-hour = 1 hora
settings-ttl-day = 1 día
settings-ttl-week = 7 días
settings-create = Crear el token
settings-ttl-choose = Seleccione durante cuánto tiempo debe funcionar el token

## Páginas de error

error-go-to-accounts = Ir a sus cuentas
error-forbidden-title = No puede hacer esto
error-forbidden = Su acceso no lo permite. Cierre la sesión, vuelva a acceder e inténtelo de nuevo.
error-bad-input-title = Hay un problema
error-bad-input = El banco no ha podido aceptar esto. Vuelva atrás, revise los datos e inténtelo de nuevo.
error-not-found-title = No se encuentra la página
error-not-found = Si ha escrito la dirección, compruebe que es correcta. Si ha seguido un enlace, puede que la página haya cambiado de sitio o que la cuenta no sea suya.
error-funds-title = No hay dinero suficiente
error-funds = La cuenta no tiene dinero suficiente para esto.
error-conflict = Esto ya se hizo con otros datos. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-rate-limited-title = Demasiados intentos
error-rate-limited = Ha habido demasiados intentos fallidos. Espere un minuto y vuelva a intentarlo.
error-unavailable-title = Lo sentimos, el banco no está disponible
error-unavailable = Ahora no podemos conectar con nuestro servicio bancario. Su dinero está seguro. Vuelva a intentarlo dentro de unos minutos.
error-internal-title = Lo sentimos, hay un problema con el servicio
error-internal = Algo ha fallado por nuestra parte. Vuelva a intentarlo más tarde. Si estaba haciendo un pago, compruebe sus cuentas antes de repetirlo.
error-csrf-title = No se ha podido aceptar este formulario
error-csrf = El formulario había caducado o no procedía de este sitio, así que no se ha cambiado nada. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-bad-form = No se ha podido leer el formulario. Vuelva atrás e inténtelo de nuevo.
