# Lambda packages for `sam build` (every function in template.yaml has `BuildMethod: makefile`,
# `ProjectRootDirectory: .`, so SAM runs `make build-<LogicalId>` with ARTIFACTS_DIR set).
#
# Every function's target runs ONE cargo-lambda build of the whole workspace (every Lambda
# binary, release, arm64) into the one shared target/ directory, then copies that function's
# `bootstrap` into ARTIFACTS_DIR. The first target does the work; cargo holds a lock on
# target/ while it builds, so SAM's parallel targets wait for it and then find everything
# fresh. The shared crate and the SDKs are compiled once, and each binary still gets its own
# LTO link. Building the crates together unifies their features, which costs no bytes: a
# binary links only what its `main` reaches (each main builds just its route's clients, see
# festa::wiring::LambdaEnv), not every adapter a feature compiles.
#
#   sam build                                       # arm64, as deployed (samconfig.toml)
#   sam build AuthorizerFunction                    # one function (and its crate)
#   LAMBDA_ARCH=--x86-64 sam build ...              # the same Makefile for x86_64 (a check on
#                                                   # a machine without the aarch64 target)
#   make build-VerifyTokenFunction ARTIFACTS_DIR=/tmp/out    # without SAM
#
# cargo-lambda and zig (cross-linker) come from scripts/requirements-build.txt.

# The repository root: the directory of this Makefile, wherever make was started. Without
# --build-in-source SAM would run make in a scratch copy of the repository; building here
# instead keeps the one shared target/ (and its cache) either way.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

CARGO_LAMBDA ?= cargo lambda
LAMBDA_ARCH ?= --arm64
LAMBDA_DIR ?= $(ROOT)/target/lambda
CARGO_LAMBDA_FLAGS ?= --release --locked

.PHONY: help
help:
	@echo "sam build runs the build-<LogicalId> targets (LAMBDA_ARCH=$(LAMBDA_ARCH)):"
	@grep -o '^build-[A-Za-z]*' $(ROOT)/Makefile | sed 's/^/  /'

# Every Lambda binary of the workspace; the local platform and the test kit are not Lambdas.
.PHONY: lambdas
lambdas:
	cd $(ROOT) && $(CARGO_LAMBDA) build $(CARGO_LAMBDA_FLAGS) $(LAMBDA_ARCH) \
		--workspace --exclude festa-local --exclude festa-testkit --lambda-dir $(LAMBDA_DIR)

# $(call install,<binary>): the built bootstrap into SAM's artifacts directory.
define install
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp $(LAMBDA_DIR)/$(1)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
endef

# One line per function: build-<LogicalId>: the workspace build, then its binary
# (Metadata.BuildProperties.Binary in template.yaml; functions/local/tests/deployment.rs
# checks that the two agree).
build-AuthorizerFunction: lambdas ; $(call install,authorizer)
build-SignupFunction: lambdas ; $(call install,signup)
build-ConfirmSignupFunction: lambdas ; $(call install,confirm-signup)
build-ResendConfirmationFunction: lambdas ; $(call install,resend-confirmation)
build-ForgotPasswordFunction: lambdas ; $(call install,forgot-password)
build-ConfirmForgotPasswordFunction: lambdas ; $(call install,confirm-forgot-password)
build-LoginFunction: lambdas ; $(call install,login)
build-SignoutFunction: lambdas ; $(call install,signout)
build-VerifyTokenFunction: lambdas ; $(call install,verify-token)
build-RefreshTokenFunction: lambdas ; $(call install,refresh-token)
build-OpenApiFunction: lambdas ; $(call install,openapi)
build-CreateFestivalFunction: lambdas ; $(call install,create-festival)
build-ListFestivalsFunction: lambdas ; $(call install,list-festivals)
build-GetFestivalFunction: lambdas ; $(call install,get-festival)
build-SearchFestivalsFunction: lambdas ; $(call install,search-festivals)
build-JoinQueueFunction: lambdas ; $(call install,join-queue)
build-GetQueueRankFunction: lambdas ; $(call install,get-queue-rank)
build-GetQueueAllowedFunction: lambdas ; $(call install,get-queue-allowed)
build-LeaveQueueFunction: lambdas ; $(call install,leave-queue)
build-LeaveAdmissionFunction: lambdas ; $(call install,leave-admission)
build-QueueAdmitterFunction: lambdas ; $(call install,queue-admitter)
build-CreateReservationFunction: lambdas ; $(call install,create-reservation)
build-ListReservationsFunction: lambdas ; $(call install,list-reservations)
build-CancelReservationFunction: lambdas ; $(call install,cancel-reservation)
build-ActivateNotificationFunction: lambdas ; $(call install,activate-notification)
build-DeactivateNotificationFunction: lambdas ; $(call install,deactivate-notification)
build-ReminderPlannerFunction: lambdas ; $(call install,reminder-planner)
build-PushSenderFunction: lambdas ; $(call install,push-sender)
build-JoinChatRoomFunction: lambdas ; $(call install,join-chat-room)
build-EnterChatRoomFunction: lambdas ; $(call install,enter-chat-room)
build-ListChatRoomsFunction: lambdas ; $(call install,list-chat-rooms)
build-LeaveChatRoomFunction: lambdas ; $(call install,leave-chat-room)
build-WsConnectFunction: lambdas ; $(call install,ws-connect)
build-WsDisconnectFunction: lambdas ; $(call install,ws-disconnect)
build-WsSendMessageFunction: lambdas ; $(call install,ws-send-message)
build-WsEnterRoomFunction: lambdas ; $(call install,ws-enter-room)
build-WsLeaveRoomFunction: lambdas ; $(call install,ws-leave-room)
build-WsMarkReadFunction: lambdas ; $(call install,ws-mark-read)
build-WsDefaultFunction: lambdas ; $(call install,ws-default)
