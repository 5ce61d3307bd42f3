# Lambda packages for `sam build` (every function in template.yaml has `BuildMethod: makefile`,
# `ProjectRootDirectory: .`, so SAM runs `make build-<LogicalId>` with ARTIFACTS_DIR set).
#
# Each function's target builds its crate with cargo-lambda, in release, for arm64, into the
# one shared target/ directory, then copies that function's `bootstrap` into ARTIFACTS_DIR.
# A crate is built in one cargo invocation (all of its binaries at once); the other functions
# of that crate find it fresh (cargo holds a lock on target/ while it builds, so SAM's parallel
# builds wait for each other instead of compiling twice). One invocation per crate, not one for
# the whole workspace: cargo unifies the features of every package it builds together, so a
# single workspace build would link every adapter (Redis, SES, SQS, FCM, ...) into every
# Lambda; built per crate, each binary gets exactly the features its crate asks for, as with
# `cargo lambda build -p <crate>`.
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

# crate-<dir>: every binary of functions/<dir> (package festa-<dir>).
crate-%:
	cd $(ROOT) && $(CARGO_LAMBDA) build $(CARGO_LAMBDA_FLAGS) $(LAMBDA_ARCH) \
		--package festa-$* --lambda-dir $(LAMBDA_DIR)

# $(call install,<binary>): the built bootstrap into SAM's artifacts directory.
define install
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp $(LAMBDA_DIR)/$(1)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
endef

# One line per function: build-<LogicalId>: crate-<crate directory>, then its binary
# (Metadata.BuildProperties.Binary in template.yaml; functions/local/tests/deployment.rs
# checks that the two agree).
build-AuthorizerFunction: crate-auth ; $(call install,authorizer)
build-SignupFunction: crate-auth ; $(call install,signup)
build-ConfirmSignupFunction: crate-auth ; $(call install,confirm-signup)
build-LoginFunction: crate-auth ; $(call install,login)
build-SignoutFunction: crate-auth ; $(call install,signout)
build-VerifyTokenFunction: crate-auth ; $(call install,verify-token)
build-RefreshTokenFunction: crate-auth ; $(call install,refresh-token)
build-OpenApiFunction: crate-openapi ; $(call install,openapi)
build-CreateFestivalFunction: crate-festivals ; $(call install,create-festival)
build-ListFestivalsFunction: crate-festivals ; $(call install,list-festivals)
build-GetFestivalFunction: crate-festivals ; $(call install,get-festival)
build-SearchFestivalsFunction: crate-festivals ; $(call install,search-festivals)
build-JoinQueueFunction: crate-queue ; $(call install,join-queue)
build-GetQueueRankFunction: crate-queue ; $(call install,get-queue-rank)
build-GetQueueAllowedFunction: crate-queue ; $(call install,get-queue-allowed)
build-LeaveQueueFunction: crate-queue ; $(call install,leave-queue)
build-LeaveAdmissionFunction: crate-queue ; $(call install,leave-admission)
build-QueueAdmitterFunction: crate-queue ; $(call install,queue-admitter)
build-CreateReservationFunction: crate-reservations ; $(call install,create-reservation)
build-ListReservationsFunction: crate-reservations ; $(call install,list-reservations)
build-CancelReservationFunction: crate-reservations ; $(call install,cancel-reservation)
build-ActivateNotificationFunction: crate-notifications ; $(call install,activate-notification)
build-DeactivateNotificationFunction: crate-notifications ; $(call install,deactivate-notification)
build-ReminderPlannerFunction: crate-notifications ; $(call install,reminder-planner)
build-PushSenderFunction: crate-notifications ; $(call install,push-sender)
build-JoinChatRoomFunction: crate-chat ; $(call install,join-chat-room)
build-EnterChatRoomFunction: crate-chat ; $(call install,enter-chat-room)
build-ListChatRoomsFunction: crate-chat ; $(call install,list-chat-rooms)
build-LeaveChatRoomFunction: crate-chat ; $(call install,leave-chat-room)
build-WsConnectFunction: crate-chat ; $(call install,ws-connect)
build-WsDisconnectFunction: crate-chat ; $(call install,ws-disconnect)
build-WsSendMessageFunction: crate-chat ; $(call install,ws-send-message)
build-WsEnterRoomFunction: crate-chat ; $(call install,ws-enter-room)
build-WsLeaveRoomFunction: crate-chat ; $(call install,ws-leave-room)
build-WsMarkReadFunction: crate-chat ; $(call install,ws-mark-read)
build-WsDefaultFunction: crate-chat ; $(call install,ws-default)
